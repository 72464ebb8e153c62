"""Real-shaped sequencing data for the lab, made on the spot instead of shipped: a reference genome (FASTA) and
single-end reads sampled from it with a few substitutions (FASTQ, Sanger qualities). The same seed gives the same
bytes, so a run outside Galaxy on the same files is the ground truth for the tools' outputs.

  python -m tests.lab.bio_data OUTDIR [--length N] [--reads N] [--seed N] [--outside-galaxy IMAGE]
writes OUTDIR/reference.fa and OUTDIR/reads.fastq and prints their paths and sizes as JSON. With --outside-galaxy, it
also runs the lab's workflow on them in IMAGE with podman, as Galaxy's tools run it (molecule/network/files/toolshed_bio),
and writes its outputs to OUTDIR/outside/: the ground truth for Galaxy's.
"""
from __future__ import annotations

import argparse
import json
import random
import subprocess
from pathlib import Path

BASES = "ACGT"
LINE = 60


def reference(length: int, rng: random.Random) -> str:
    return "".join(rng.choices(BASES, k=length))


def fasta(name: str, sequence: str) -> str:
    lines = [sequence[i:i + LINE] for i in range(0, len(sequence), LINE)]
    return f">{name}\n" + "\n".join(lines) + "\n"


def reads(genome: str, count: int, length: int, rng: random.Random, error_rate: float = 0.01) -> str:
    """COUNT reads of LENGTH bases from either strand of GENOME, each base substituted with ERROR_RATE."""
    complement = str.maketrans(BASES, "TGCA")
    records = []
    for index in range(count):
        start = rng.randrange(0, len(genome) - length)
        read = genome[start:start + length]
        if rng.random() < 0.5:
            read = read.translate(complement)[::-1]
        read = "".join(rng.choice(BASES.replace(base, "")) if rng.random() < error_rate else base for base in read)
        quality = "".join(chr(33 + rng.randint(25, 40)) for _base in read)
        records.append(f"@read{index + 1}\n{read}\n+\n{quality}\n")
    return "".join(records)


def write(outdir: Path, length: int, count: int, read_length: int, seed: int) -> dict:
    rng = random.Random(seed)
    genome = reference(length, rng)
    outdir.mkdir(parents=True, exist_ok=True)
    paths = {"reference": outdir / "reference.fa", "reads": outdir / "reads.fastq"}
    paths["reference"].write_text(fasta("chr_lab", genome))
    paths["reads"].write_text(reads(genome, count, read_length, rng))
    return {name: {"path": str(path), "bytes": path.stat().st_size} for name, path in paths.items()}


# The commands of pn_bwa_mem, pn_samtools_sort and pn_samtools_flagstat, on the same file names.
WORKFLOW = """set -e
mkdir -p outside && cd outside
ln -sf ../reference.fa reference.fa && ln -sf ../reads.fastq reads.fastq
bwa index reference.fa
bwa mem -t 1 reference.fa reads.fastq > alignments.sam
samtools sort --no-PG -@ 0 -O bam -o sorted.bam alignments.sam
samtools flagstat sorted.bam > counts.txt
"""


def outside_galaxy(outdir: Path, image: str) -> dict:
    """Run WORKFLOW in IMAGE on OUTDIR's files, without a network; return the outputs' paths."""
    subprocess.run(["podman", "run", "--rm", "--network", "none", "-v", f"{outdir.resolve()}:/data", "-w", "/data",
                    image, "sh", "-c", WORKFLOW], check=True)
    return {name: str(outdir / "outside" / name) for name in ("alignments.sam", "sorted.bam", "counts.txt")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--length", type=int, default=50_000, help="bases in the reference")
    parser.add_argument("--reads", type=int, default=2_000)
    parser.add_argument("--read-length", type=int, default=100)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--outside-galaxy", metavar="IMAGE", help="run the workflow on the data in IMAGE")
    args = parser.parse_args()
    written = write(args.outdir, args.length, args.reads, args.read_length, args.seed)
    if args.outside_galaxy:
        written["outside"] = outside_galaxy(args.outdir, args.outside_galaxy)
    print(json.dumps(written))


if __name__ == "__main__":
    main()
