"""Progress lines for a person watching a run: which file, which step.

`kzdw run` attaches a handler to this logger; under `dg dev` the run's own logs say the
same, so nothing is attached there.
"""

import logging

progress_log = logging.getLogger("kzdw.progress")
