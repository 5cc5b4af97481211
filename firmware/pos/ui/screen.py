# Screens.
#
# A Screen draws itself on a Canvas (draw), answers key names (on_key) and
# may time out back to idle.  on_key returns nothing, or one of the stack
# actions: ("push", screen), ("pop",), ("replace", screen), ("home",).


class Screen:
    title = ""
    timeout_ms = 0          # 0 = never; else back to the home screen after idle time

    def draw(self, canvas):
        pass

    def on_key(self, key):
        return None

    def entered(self):
        """Called when the screen comes back on top of the stack (the screens above it
        finished)."""

    def tick(self, canvas):
        """Called about four times a second while on top (clocks, countdowns, card slot):
        False, True (canvas changed: show), "redraw", or a stack action."""
        return False
