from edgebench.cli.main import main

raise SystemExit(main())
