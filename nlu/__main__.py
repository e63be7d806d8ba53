"""python -m nlu parse | eval | bench"""

from nlu.cli import main

raise SystemExit(main())
