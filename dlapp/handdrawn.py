"""The drawing report's old command name: `python -m dlapp.handdrawn` runs `python -m dlapp.tools.handdrawn`."""

if __name__ == "__main__":
    from dlapp.tools.handdrawn import main

    main()
