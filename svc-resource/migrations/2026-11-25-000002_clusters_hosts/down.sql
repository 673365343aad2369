-- Reverts clusters, hosts and their bindings.
DROP TABLE cluster_hosts;
DROP TABLE hosts;
DROP TABLE clusters;
