from coach_core.cli import main

if __name__ == "__main__":  # not when a spawned helper process imports this as __mp_main__
    raise SystemExit(main())
