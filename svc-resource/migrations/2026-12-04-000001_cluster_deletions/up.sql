-- Clusters whose deletion is under way: while `until` lies ahead, nothing new may be bound to the
-- cluster (jobs re-checks after each binding), so a delete never strands a binding. A crashed
-- delete leaves a row that simply expires.
CREATE TABLE cluster_deletions (
    cluster_id TEXT PRIMARY KEY NOT NULL,
    until TIMESTAMP NOT NULL
);
