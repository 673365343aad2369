DROP TABLE probe_shared;
