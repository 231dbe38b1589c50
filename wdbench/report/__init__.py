"""Reports over run directories: scripts/report.py is the command line."""
