prefix = "auto-a"
