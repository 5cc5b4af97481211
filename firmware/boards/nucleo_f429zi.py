"""NUCLEO-F429ZI pin map: which bus and which pins each peripheral uses.

Pin names are the STM32F429ZI port pins (RM0090 / DS9405 alternate-function
table; UM1974 for the NUCLEO-144 connectors and solder bridges).  Pins used by
the on-board Ethernet RMII (PA1, PA2, PA7, PB13, PC1, PC4, PC5, PG11, PG13)
and the user LEDs/button (PB0, PB7, PB14, PC13) are avoided.  USB OTG FS is
not used (the REPL is on the ST-LINK VCP), so PA8/PA9 serve the smart card.
Buses follow MicroPython's NUCLEO_F429ZI board definition where it has them
(USART2/3, UART4/5, SPI1); USART6 and I2C1 need the smartpos board
definition (docs/board-pinout.md has the picture and the definition).

Drivers build themselves from these constants (``from_board(BOARD)``);
firmware gets the right board with ``from pos.board import BOARD``.
"""
from micropython import const

NAME = "NUCLEO-F429ZI"
MCU = "STM32F429ZI"

# Key-encryption key (32 bytes) written at manufacture into OTP block 0 and locked
# (RM0090 3.8: OTP at 0x1FFF7800, lock bytes from 0x1FFF7A00); read with machine.mem8.
# The key store on flash is sealed under a key derived from it and machine.unique_id().
KEK_OTP = const(0x1FFF7800)

# REPL: USART3 on PD8/PD9, wired to the ST-LINK virtual COM port.
REPL_UART = const(3)
REPL_BAUD = const(115200)
REPL_TX = "PD8"
REPL_RX = "PD9"

# PN532 NFC controller, HSU mode (I0=L, I1=L), 115200 8N1 (PN532 UM 6.2.3).
PN532_UART = const(2)
PN532_BAUD = const(115200)
PN532_TX = "PD5"        # USART2_TX AF7 -> PN532 RXD
PN532_RX = "PD6"        # USART2_RX AF7 <- PN532 TXD
PN532_RST = "PG2"       # RSTPDN, active low

# ESC/POS thermal printer (58 mm, 384 dots), 115200 8N1.
PRINTER_UART = const(6)
PRINTER_BAUD = const(115200)
PRINTER_TX = "PC6"      # USART6_TX AF8
PRINTER_RX = "PC7"      # USART6_RX AF8

# 2D barcode scanner: decoded code + CR, 9600 8N1 (factory default of most engines).
SCANNER_UART = const(4)
SCANNER_BAUD = const(9600)
SCANNER_TX = "PA0"      # UART4_TX AF8 (as MicroPython's NUCLEO_F429ZI board)
SCANNER_RX = "PC11"     # UART4_RX AF8

# Magnetic stripe reader (ISO/IEC 7811 tracks 1-3 as ASCII), 9600 8N1.
MSR_UART = const(5)
MSR_BAUD = const(9600)
MSR_TX = "PC12"         # UART5_TX AF8
MSR_RX = "PD2"          # UART5_RX AF8

# Contact smart card through a TDA8024-class interface: USART1 in smartcard
# mode (half duplex on TX), clock from USART1_CK.  ISO/IEC 7816-3: default
# F=372, D=1, so 9600 bit/s at a 3.5712 MHz card clock.
CARD_UART = const(1)
CARD_BAUD = const(9600)
CARD_CLK_HZ = const(3571200)
CARD_IO = "PA9"         # USART1_TX AF7, open drain, I/O line (USB OTG FS off)
CARD_CLK = "PA8"        # USART1_CK AF7
CARD_RST = "PF13"       # RST to the card (via TDA8024 RSTIN)
CARD_VCC = "PF14"       # CMDVCC, active low: 0 = activate the card
CARD_DETECT = "PF15"    # OFF, low when no card is present

# ST7789 240x320 TFT on SPI1 (mode 0, 42 MHz = APB2 84 MHz / 2).
DISPLAY_SPI = const(1)
DISPLAY_BAUD = const(42000000)
DISPLAY_SCK = "PB3"     # SPI1_SCK AF5 (MicroPython NUCLEO_F429ZI SPI1 pins)
DISPLAY_MISO = "PB4"    # SPI1_MISO AF5
DISPLAY_MOSI = "PB5"    # SPI1_MOSI AF5 (PA7 is Ethernet CRS_DV)
DISPLAY_CS = "PD14"
DISPLAY_DC = "PD15"     # data/command: 1 = data
DISPLAY_RST = "PF12"    # active low
DISPLAY_BL = "PE9"      # backlight enable, active high
DISPLAY_WIDTH = const(240)
DISPLAY_HEIGHT = const(320)

# TCA8418 keypad scan controller on I2C1, INT open drain active low.
KEYPAD_I2C = const(1)
KEYPAD_I2C_FREQ = const(400000)
KEYPAD_ADDR = const(0x34)
KEYPAD_SCL = "PB8"      # I2C1_SCL AF4
KEYPAD_SDA = "PB9"      # I2C1_SDA AF4
KEYPAD_INT = "PE11"

# Buzzer on TIM9_CH1 (PWM).
BUZZER_PIN = "PE5"
BUZZER_FREQ = const(2700)

# The four contactless status indicators (EMV Book A, 9.2 / Book D):
# LED 1 (blue: not in use / ready), 2, 3, 4 in order, active high.
LED_PINS = ("PE2", "PE3", "PE4", "PE6")


def boot_control():
    """The boot-control region (two copies of the record, docs/updates.md) as a block device:
    two 16 KiB sectors of internal flash the bootloader also reads."""
    import pyb
    return pyb.Flash(start=0x08008000, len=0x8000)

# TLS (pos.net.tls): mbedTLS on this port takes its memory from the GC heap (m_tracked_calloc,
# an 8-byte node in front of each request): 29,861 B at a connection's peak, of which the two
# record buffers are the only large blocks, 16,717 B (receive, MBEDTLS_SSL_IN_CONTENT_LEN 16384)
# and 4,429 B (send); the rest are requests under 1 KB (docs/tms.md, "TLS and the heap").
# The arena is those two buffers' GC blocks: 16,736 + 4,448 (16-byte blocks).
TLS_ARENA = 21184
