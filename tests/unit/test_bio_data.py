"""The lab's sequencing data (tests/lab/bio_data.py): the same seed gives the same bytes, and the reads come from
the reference."""
import random
from xml.etree import ElementTree
from pathlib import Path

from tests.lab import bio_data


def test_the_same_seed_gives_the_same_files(tmp_path):
    first = bio_data.write(tmp_path / "a", 5_000, 50, 80, seed=7)
    second = bio_data.write(tmp_path / "b", 5_000, 50, 80, seed=7)
    for name in ("reference", "reads"):
        assert Path(first[name]["path"]).read_bytes() == Path(second[name]["path"]).read_bytes()


def test_reads_without_errors_are_pieces_of_either_strand_of_the_reference():
    rng = random.Random(3)
    genome = bio_data.reference(2_000, rng)
    reverse = genome.translate(str.maketrans("ACGT", "TGCA"))[::-1]
    fastq = bio_data.reads(genome, 20, 50, rng, error_rate=0.0).splitlines()
    sequences = fastq[1::4]
    assert len(sequences) == 20 and all(len(s) == 50 for s in sequences)
    assert all(s in genome or s in reverse for s in sequences)
    assert all(len(q) == 50 and min(q) >= "!" for q in fastq[3::4])


def test_the_reference_is_fasta_with_short_lines(tmp_path):
    files = bio_data.write(tmp_path, 130, 1, 50, seed=1)
    lines = Path(files["reference"]["path"]).read_text().splitlines()
    assert lines[0] == ">chr_lab" and [len(line) for line in lines[1:]] == [60, 60, 10]


# The files each tool's job reads and writes, as the workflow outside Galaxy names them.
FILES = {"pn_bwa_mem": {"output": "alignments.sam"},
         "pn_samtools_sort": {"input": "alignments.sam", "output": "sorted.bam"},
         "pn_samtools_flagstat": {"input": "sorted.bam", "output": "counts.txt"}}
WRAPPERS = Path(__file__).resolve().parents[2] / "molecule/network/files/toolshed_bio"


def test_the_workflow_outside_galaxy_runs_the_wrappers_own_commands():
    for tool, files in FILES.items():
        command = ElementTree.parse(WRAPPERS / f"{tool}.xml").getroot().findtext("command")
        programs = [line.strip().removesuffix("&&").strip() for line in command.splitlines()
                    if line.strip().startswith(("bwa ", "samtools "))]
        assert programs, tool
        for line in programs:
            for name, path in files.items():
                line = line.replace(f"'${name}'", path)
            assert line in bio_data.WORKFLOW.splitlines(), (tool, line)
