"""Touch ``params.mb`` MB of memory and hold it a moment: above the job's --mem, cgroups kill it."""

import time

mb = snakemake.params.mb
block = bytearray(mb * 1024 * 1024)
block[::4096] = b"\1" * len(block[::4096])  # make every page resident
time.sleep(3)
with open(snakemake.log[0], "w") as log:
    log.write(f"held {mb} MB with mem_mb={snakemake.resources.mem_mb}\n")
with open(snakemake.output[0], "w") as out:
    out.write(f"{snakemake.resources.mem_mb}\n")
