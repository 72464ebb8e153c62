"""The lab's controller-side test programs: they run on the machine that runs Ansible and molecule, never in a lab
container, and act on the lab through Galaxy's API and podman. Run each from the repository root as
`python -m tests.lab.NAME` (a molecule playbook, whose working directory is its scenario's, sets PYTHONPATH to the
root). Programs that are copied into the lab's containers stay beside their scenario (molecule/*/files/).

  galaxy_job         a tool run through Galaxy's API with bioblend, as a user would
  status_page_check  the operators' status page in headless Chromium, as a person sees it
  fault_matrix       the fault matrix (docs/reliability.md): network_lab, fault_rows and fault_report are its parts
"""
