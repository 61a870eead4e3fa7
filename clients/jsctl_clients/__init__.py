"""clients/jsctl_clients"""
