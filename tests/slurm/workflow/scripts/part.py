"""Double the number in the input; a non-number is a bad input: say where, fail for good."""

import sys
from pathlib import Path

path = snakemake.input[0]
text = Path(path).read_text().strip()
with open(snakemake.log[0], "w") as log:
    try:
        value = int(text)
    except ValueError:
        log.write(f"{path}, line 1: expected a whole number, got {text!r}\n")
        sys.exit(1)
    log.write(f"{path}: {value}\n")
with open(snakemake.output[0], "w") as out:
    out.write(f"{2 * value}\n")
