from gaitmon.cli import main

raise SystemExit(main())
