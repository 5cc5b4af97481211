# Persistent state on flash: the transaction journal, configuration and keys.
