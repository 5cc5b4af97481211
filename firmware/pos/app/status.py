# What the status bar shows, set by whoever knows: the host link (network),
# the printer (paper), the batch (count).  None = not known yet.
network = None       # True up, False down
paper = None         # "ok", "low", "out"
batch_count = 0
pending = 0          # reversals, advices and wallet orders not yet taken by the hosts
power = "AC"         # "AC" mains; a board with a battery gauge sets "BAT" + percent
# the UI's hardware, set by main.py (screens that run modal card work need them)
canvas = None
keypad = None
operator = None      # pos.app.operators.Operator signed in (None: the default cashier)
