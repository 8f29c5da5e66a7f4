"""Django's SQLite backend with writers queued on a file lock (settings: ENGINE "leadgate.lib.sqlite")."""
