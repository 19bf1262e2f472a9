# agent/format: placeholder
