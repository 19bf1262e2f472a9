# agent/binlog values: placeholder
