DROP TABLE cluster_deletions;
