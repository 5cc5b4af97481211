*** Settings ***
Documentation     The smartpos MicroPython image boots on the emulated NUCLEO-F429ZI and its REPL
...               behaves as the virtual board's does (see tests/board/test_repl.py).
...               Run:  renode-test renode/smartpos_f429zi.robot
Suite Setup       Setup
Suite Teardown    Teardown
Test Setup        Reset Emulation
Test Teardown     Test Teardown
Resource          ${RENODEKEYWORDS}

*** Variables ***
${SCRIPT}         ${CURDIR}/smartpos_f429zi.resc
${REPL}           sysbus.usart3

*** Keywords ***
Create Board
    Execute Script            ${SCRIPT}
    Create Terminal Tester    ${REPL}    timeout=30

*** Test Cases ***
Boots To The MicroPython Banner
    Create Board
    Start Emulation
    Wait For Line On Uart     MicroPython
    Wait For Prompt On Uart   >>>

Runs Code With The Reference Heap
    Create Board
    Start Emulation
    Wait For Prompt On Uart   >>>
    Write Line To Uart        import sys, gc; print(sys.platform, gc.mem_free() + gc.mem_alloc() <= 196608)
    Wait For Line On Uart     pyboard True

Soft Resets On Ctrl-D
    Create Board
    Start Emulation
    Wait For Prompt On Uart   >>>
    Send Key To Uart          0x04
    Wait For Line On Uart     MPY: soft reboot
    Wait For Prompt On Uart   >>>

Enters The Raw REPL
    Create Board
    Start Emulation
    Wait For Prompt On Uart   >>>
    Send Key To Uart          0x01
    Wait For Line On Uart     raw REPL; CTRL-B to exit
