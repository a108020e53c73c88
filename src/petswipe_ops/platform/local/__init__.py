"""The local sandbox platform: processes, HAProxy and a database on 127.0.0.1."""
