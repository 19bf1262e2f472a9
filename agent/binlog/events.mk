# agent/binlog events decoder: placeholder
