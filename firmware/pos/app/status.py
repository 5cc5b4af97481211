# What the status bar shows, set by whoever knows: the host link (network),
# the printer (paper), the batch (count).  None = not known yet.
network = None       # True up, False down
paper = None         # "ok", "low", "out"
batch_count = 0
test_keys = False    # TEST keys loaded (the key store marks them): the Ready screen says so
keys_error = None    # the key store refused to open (altered, foreign, no KEK): its message
pending = 0          # reversals, advices and wallet orders not yet taken by the hosts
sync_note = None     # the upload queue's line on the Ready screen (pos.sync.uploader): full, refused
sync_fill = None     # fn() -> transactions the upload queue could not take (set once pos.sync runs)
power = "AC"         # "AC" mains; a board with a battery gauge sets "BAT" + percent
# the UI's hardware, set by main.py (screens that run modal card work need them)
canvas = None
keypad = None
operator = None      # pos.app.operators.Operator signed in (None: the default cashier)
lights_dark_at = None  # ticks_ms when the contactless lights go dark after an outcome (Book A 9.2)
