# Not loaded automatically: only with --var-file.
fw_ip = "10.0.1.4"
