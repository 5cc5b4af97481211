# boot.py: runs on every reset before main.py.  Kept minimal: nothing here may
# fail or take memory the application needs.
import gc

gc.collect()
