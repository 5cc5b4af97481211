# Piezo buzzer on a timer PWM channel.  Tones of EMV Contactless Book A 9.3:
# success = 1500 Hz for 500 ms; alert = 750 Hz, 200 ms on, 200 ms off, 200 ms on.
import time
from micropython import const

SUCCESS_HZ = const(1500)
ALERT_HZ = const(750)
_HALF = const(32768)


class Buzzer:
    def __init__(self, pwm):
        self.pwm = pwm
        self.pwm.duty_u16(0)

    def on(self, freq):
        self.pwm.freq(freq)
        self.pwm.duty_u16(_HALF)

    def off(self):
        self.pwm.duty_u16(0)

    def tone(self, freq, ms):
        self.on(freq)
        time.sleep_ms(ms)
        self.off()

    async def tone_async(self, freq, ms):
        import asyncio
        self.on(freq)
        await asyncio.sleep_ms(ms)
        self.off()

    def success(self):
        self.tone(SUCCESS_HZ, 500)

    def alert(self):
        self.tone(ALERT_HZ, 200)
        time.sleep_ms(200)
        self.tone(ALERT_HZ, 200)

    def click(self):
        self.tone(2700, 15)


def from_board(board):
    from machine import PWM, Pin
    return Buzzer(PWM(Pin(board.BUZZER_PIN), freq=board.BUZZER_FREQ, duty_u16=0))
