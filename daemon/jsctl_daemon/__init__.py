"""daemon/jsctl_daemon"""
