# The terminal's user interface: screens on the ST7789 display, keys from the
# TCA8418 keypad.  Screens draw on a Canvas and react to key names; the
# ScreenStack (pos.ui.stack) routes keys to the top screen and redraws what changed.
