"""The process: the command line, settings, serving HTTP and Socket Mode."""
