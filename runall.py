"""Execute the suite's notebooks headless and build reports/ (see `python runall.py --help`)."""
from lib.runner import main

raise SystemExit(main())
