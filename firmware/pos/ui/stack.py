# The screen stack: routes keys to the top screen (pos.ui.screen.Screen), runs its ticks,
# applies the actions it returns, and shows an error page over Ready when a handler raises.
import time


class ScreenStack:
    def __init__(self, canvas, home):
        self.canvas = canvas
        self.stack = [home]
        self._last_key = time.ticks_ms()
        self.redraw()

    @property
    def top(self):
        return self.stack[-1]

    def redraw(self):
        self.canvas.clear()
        self.top.draw(self.canvas)
        self.canvas.show()

    def apply(self, action):
        if not action:
            return
        kind = action[0]
        if kind == "push":
            self.stack.append(action[1])
        elif kind == "pop":
            if len(self.stack) > 1:
                self.stack.pop()
        elif kind == "replace":
            if len(self.stack) > 1:
                self.stack[-1] = action[1]
            else:
                self.stack.append(action[1])
        elif kind == "home":
            del self.stack[1:]
        elif kind == "back_to":           # down to a screen still on the stack (an app's)
            if action[1] in self.stack:
                del self.stack[self.stack.index(action[1]) + 1:]
        if kind != "push":
            self.top.entered()
        self.redraw()

    def key(self, name):
        self._last_key = time.ticks_ms()
        try:
            action = self.top.on_key(name)
            if action == "redraw":
                self.redraw()
            else:
                self.apply(action)
        except Exception as exc:          # MemoryError included: the terminal stays up
            self.failed(exc)

    def tick(self):
        top = self.top
        try:
            if top.timeout_ms and time.ticks_diff(time.ticks_ms(), self._last_key) > top.timeout_ms:
                self.apply(("home",))
                return
            r = top.tick(self.canvas)
            if isinstance(r, tuple):          # the screen finished work of its own (a card was read)
                self.apply(r)
            elif r == "redraw":
                self.redraw()
            elif r:
                self.canvas.show()
        except Exception as exc:
            self.failed(exc)

    def failed(self, exc):
        """A screen's handler raised: say so on an error page over Ready (ENTER goes back);
        the traceback goes to the console for the engineer."""
        import gc
        import sys
        del self.stack[1:]
        gc.collect()
        sys.print_exception(exc)
        from pos.ui.widgets import Info
        from pos.ui.messages import t
        text = str(exc) or type(exc).__name__
        try:
            self.apply(("push", Info(t("error"), [text[:28], text[28:56], t("press_cancel")])))
        except Exception:
            pass
