-- type_matrix_mariadb.sql: the MariaDB-only part of the type matrix (after type_matrix.sql).
USE tm;

-- MariaDB COMPRESSED columns (types 140/141 in TABLE_MAP): zlib when it pays, stored otherwise.
CREATE TABLE t_comp (id INT PRIMARY KEY, vc VARCHAR(1000) COMPRESSED, tx TEXT COMPRESSED,
  bl BLOB COMPRESSED, vl1 VARCHAR(100) CHARACTER SET latin1 COMPRESSED);
INSERT INTO t_comp VALUES
  (1, REPEAT('compress me ', 50), REPEAT('ü', 500), REPEAT(x'00ff', 300), REPEAT('é', 90)),
  (2, 'ab', 'x', x'01', 'é'),
  (3, '', '', '', ''),
  (4, NULL, NULL, NULL, NULL);

