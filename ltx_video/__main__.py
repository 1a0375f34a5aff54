"""``python -m ltx_video``: the ``ltx-video`` command."""

import sys

from ltx_video.cli import main

sys.exit(main())
