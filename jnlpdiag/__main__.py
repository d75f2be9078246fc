import sys

from jnlpdiag.cli import main

sys.exit(main())
