import sys

from ltx_video.cli import main

sys.exit(main())
