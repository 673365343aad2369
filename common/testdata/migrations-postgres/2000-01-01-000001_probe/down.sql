DROP TABLE probe_postgres;
