# Where the virtual board's mbedTLS takes its memory (board support, outside flash): the unix
# port's own build uses the C library (off the heap); a board started with tls_heap=True has
# host_sim/tls_probe serve it from the GC heap, as a board's m_tracked_calloc does.
import os

ON_GC_HEAP = os.getenv("SMARTPOS_TLS_ON_HEAP") == "1"
