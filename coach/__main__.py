from coach.app.cli import main

raise SystemExit(main())
