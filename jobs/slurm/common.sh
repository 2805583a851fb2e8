# shellcheck shell=bash
# jobs/slurm/common.sh - sourced by strong.sbatch and weak.sbatch (not run on its own).
# Inside a Slurm allocation, runs a sweep over node counts, ranks per node and threads per rank:
#   every point is one job step `srun --mpi=pmix ... parkit scale KERNEL ARGS --threads t
#   --mode $PK_MODE --record records.jsonl` (or `parkit KERNEL ARGS -t t` for kernels that
#   `parkit scale` does not know; strong mode only), or `mpirun` when srun has no working pmix.
# Results go to $PK_RESULTS/<experiment>/<jobid>/ (default <repo>/results, experiment = job
# name), with the environment captured: slurm-env.txt (env | grep SLURM), job.txt (scontrol show
# job), info.json (parkit info --format json under the launcher at the largest point: hosts,
# cpusets and threads of every rank),
# git.txt, env.txt, launcher.txt (srun/mpirun versions, which one ran and why), lscpu.txt;
# points.tsv has one line per point and log.txt the output of every step.
# The job exits 1 when any point failed (non-zero exit or a record not verified), 2 on a usage
# error.
#
# Knobs (environment, exported before sbatch, or sbatch --export=ALL,PK_THREADS=1,2):
#   PK_NODES, PK_RANKS_PER_NODE, PK_THREADS   comma lists (default 1,2,4,... up to the
#       allocation's nodes, tasks per node and cpus per task, and those counts themselves)
#   PK_REPS (3), PK_WARMUP (1), PK_EXPERIMENT (the job name), PK_RESULTS (<repo>/results),
#   PK_LAUNCH (auto | srun | mpirun), PK_POINT_TIMEOUT (seconds per point, 1800),
#   PK_SCALE=0 runs `parkit KERNEL ARGS -t t` even for sumsq/factsum/fib (strong only; for
#       options `parkit scale` does not take, such as --file or --canary),
#   PARKIT (the binary; default build/release/drivers/parkit, else the newest build/*/)
# Binding: OMP_PLACES=cores and OMP_PROC_BIND=close pin each rank's threads inside the cpuset
# Slurm gives the task. Where Slurm does not bind tasks (TaskPlugin=task/none, as in
# jobs/slurm-local.sh) every rank on a node sees all cores and `close` would stack the ranks'
# threads on the same cores; the helper detects that from `parkit info` (same cpuset for two
# ranks of one node) and then runs points with more than one rank per node with
# OMP_PROC_BIND=false, saying so in the log and in launcher.txt.

pk_log() { echo "[$(date -u +%H:%M:%S)] $*" | tee -a "$PK_OUT/log.txt" >&2; }

# 1,2,4,...,<max> and max itself
pk_pow2_list() {
    local max=$1 v=1 list=""
    while ((v < max)); do list+="$v,"; v=$((v * 2)); done
    echo "${list}$max"
}

pk_setup() {
    : "${SLURM_JOB_ID:?not inside a Slurm job (submit with sbatch)}"
    PK_MODE=${PK_MODE:-strong}
    # the repository: PK_ROOT, else where sbatch was run, else the submitted script's path
    if [[ -z ${PK_ROOT:-} ]]; then
        if [[ -f ${SLURM_SUBMIT_DIR:-}/jobs/slurm/common.sh ]]; then
            PK_ROOT=$SLURM_SUBMIT_DIR
        else
            local cmd
            cmd=$(scontrol show job "$SLURM_JOB_ID" | sed -n 's/^ *Command=\([^ ]*\).*/\1/p')
            PK_ROOT=$(cd "$(dirname "$cmd")/../.." && pwd)
        fi
    fi
    PARKIT=${PARKIT:-}
    if [[ -z $PARKIT ]]; then
        PARKIT=$PK_ROOT/build/release/drivers/parkit
        [[ -x $PARKIT ]] || PARKIT=$(ls -t "$PK_ROOT"/build/*/drivers/parkit 2>/dev/null | head -1 || true)
        # installed: PK_ROOT is PREFIX/share/parkit, the binary PREFIX/bin/parkit, else on PATH
        [[ -n $PARKIT && -x $PARKIT ]] || PARKIT=$PK_ROOT/../../bin/parkit
        [[ -x $PARKIT ]] || PARKIT=$(command -v parkit || true)
    fi
    [[ -n $PARKIT && -x $PARKIT ]] || { echo "no parkit binary: build it or set PARKIT" >&2; exit 2; }
    PARKIT=$(realpath "$PARKIT")

    PK_NNODES=${SLURM_JOB_NUM_NODES:-${SLURM_NNODES:-1}}
    # SLURM_NTASKS_PER_NODE is set only with --ntasks-per-node; SLURM_TASKS_PER_NODE looks like 2(x3),1
    PK_TPN=${SLURM_NTASKS_PER_NODE:-$(echo "${SLURM_TASKS_PER_NODE:-1}" | sed 's/[(,].*//')}
    PK_CPT=${SLURM_CPUS_PER_TASK:-1}
    PK_NODES=${PK_NODES:-$(pk_pow2_list "$PK_NNODES")}
    PK_RANKS_PER_NODE=${PK_RANKS_PER_NODE:-$(pk_pow2_list "$PK_TPN")}
    PK_THREADS=${PK_THREADS:-$(pk_pow2_list "$PK_CPT")}
    PK_REPS=${PK_REPS:-3}
    PK_WARMUP=${PK_WARMUP:-1}
    PK_POINT_TIMEOUT=${PK_POINT_TIMEOUT:-1800}
    local jobid=${SLURM_ARRAY_JOB_ID:+${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}}
    jobid=${jobid:-$SLURM_JOB_ID}
    PK_EXPERIMENT=${PK_EXPERIMENT:-${SLURM_JOB_NAME:-parkit-$PK_MODE}}
    # an installed copy (no CMakeLists.txt in PK_ROOT) writes under the submit directory
    local results=$PK_ROOT/results
    [[ -f $PK_ROOT/CMakeLists.txt ]] || results=${SLURM_SUBMIT_DIR:-$PWD}/results
    PK_OUT=${PK_RESULTS:-$results}/$PK_EXPERIMENT/$jobid
    mkdir -p "$PK_OUT"
    PK_RECORDS=$PK_OUT/records.jsonl

    # Open MPI as root (test machines), and never a hang without an end (see the recipes README)
    if [[ $(id -u) -eq 0 ]]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi

    # ---- the environment
    env | grep '^SLURM' | sort > "$PK_OUT/slurm-env.txt" || true
    env | grep -Eiv 'token|secret|passw|credential|api_?key|_key=' | sort > "$PK_OUT/env.txt"
    scontrol show job "$SLURM_JOB_ID" > "$PK_OUT/job.txt" 2>&1 || true
    {
        echo "commit $(git -C "$PK_ROOT" rev-parse HEAD 2>/dev/null || echo unknown)"
        echo "describe $(git -C "$PK_ROOT" describe --always --dirty 2>/dev/null || echo unknown)"
        echo "changed files:"; git -C "$PK_ROOT" status --porcelain 2>/dev/null || true
    } > "$PK_OUT/git.txt"
    lscpu > "$PK_OUT/lscpu.txt" 2>&1 || true
    "$PARKIT" --version > "$PK_OUT/parkit-version.txt" 2>&1 || true

    pk_choose_launcher
    pk_log "job $jobid ($PK_EXPERIMENT, $PK_MODE): $PK_NNODES node(s) x $PK_TPN task(s) x $PK_CPT cpu(s);" \
           "nodes {$PK_NODES} ranks/node {$PK_RANKS_PER_NODE} threads {$PK_THREADS}; launcher $PK_LAUNCHER;" \
           "results $PK_OUT"
}

# srun --mpi=pmix when Slurm lists pmix and a one-task probe step works; mpirun otherwise
pk_choose_launcher() {
    local want=${PK_LAUNCH:-auto} why
    {
        echo "srun: $(srun --version 2>&1)"
        echo "srun --mpi=list: $(srun --mpi=list 2>&1 | tr '\n\t' '  ')"
        echo "mpirun: $(mpirun --version 2>&1 | head -1)"
    } > "$PK_OUT/launcher.txt"
    PK_LAUNCHER=mpirun
    if [[ $want == srun ]]; then
        PK_LAUNCHER=srun; why="PK_LAUNCH=srun"
    elif [[ $want == mpirun ]]; then
        why="PK_LAUNCH=mpirun"
    elif ! srun --mpi=list 2>&1 | grep -qw pmix; then
        why="srun lists no pmix plugin"
    elif ! timeout -k 5 60 srun --mpi=pmix --nodes=1 --ntasks=1 --cpus-per-task=1 true \
            >>"$PK_OUT/launcher.txt" 2>&1; then
        why="a probe step 'srun --mpi=pmix -n1 true' failed"
    else
        PK_LAUNCHER=srun; why="srun lists pmix and the probe step worked"
    fi
    echo "launcher: $PK_LAUNCHER ($why)" >> "$PK_OUT/launcher.txt"
}

# pk_launch N RPN T CMD...: CMD on N nodes x RPN ranks per node, T threads per rank
pk_launch() {
    local n=$1 rpn=$2 t=$3; shift 3
    local np=$((n * rpn))
    if [[ $PK_LAUNCHER == srun ]]; then
        srun --mpi=pmix --nodes="$n" --ntasks="$np" --ntasks-per-node="$rpn" --cpus-per-task="$t" \
             --export=ALL,OMP_NUM_THREADS="$t" "$@"
    else
        # hosts of the first n nodes; --bind-to none: with np <= cores mpirun would bind each
        # rank to one core and OpenMP would get one thread (recipes README, binding gotcha)
        local hosts
        hosts=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n "$n" | sed "s/\$/:$rpn/" | paste -sd,)
        mpirun -np "$np" --host "$hosts" --map-by "ppr:$rpn:node" --bind-to none \
               -x OMP_NUM_THREADS="$t" -x OMP_PLACES -x OMP_PROC_BIND "$@"
    fi
}

# does Slurm bind tasks? (no: two ranks of one node report the same cpuset)
pk_check_binding() {
    PK_TASKS_UNBOUND=0
    local maxn=${PK_NODES##*,} maxrpn=${PK_RANKS_PER_NODE##*,} maxt=${PK_THREADS##*,}
    if timeout -k 5 120 bash -c 'pk_launch "$@"' pk "$maxn" "$maxrpn" "$maxt" "$PARKIT" info --format json \
            > "$PK_OUT/info.json" 2>>"$PK_OUT/log.txt"; then
        if jq -e '[.ranks | group_by(.host)[] | select(length > 1) | (map(.cpuset) | unique | length) < length] | any' \
                "$PK_OUT/info.json" >/dev/null 2>&1; then
            PK_TASKS_UNBOUND=1
            echo "binding: Slurm does not bind tasks here (ranks of one node share a cpuset):" \
                 "points with more than one rank per node run with OMP_PROC_BIND=false" >> "$PK_OUT/launcher.txt"
            pk_log "tasks are not bound by Slurm: OMP_PROC_BIND=close would stack ranks on the same cores;" \
                   "using OMP_PROC_BIND=false where ranks share a node"
        fi
    else
        pk_log "warning: parkit info under $PK_LAUNCHER failed (see log.txt)"
    fi
}

pk_sweep() {  # pk_sweep [KERNEL ARGS...]
    local kernel=${1:-sumsq}; shift || true
    local kargs=("$@")
    [[ ${#kargs[@]} -gt 0 || $kernel != sumsq ]] || kargs=(--range 1e10)
    local use_scale=0
    case $kernel in sumsq|factsum|fib) use_scale=1 ;; esac
    [[ ${PK_SCALE:-1} == 0 ]] && use_scale=0
    if [[ $PK_MODE == weak && $use_scale == 0 ]]; then
        pk_log "error: weak mode needs a kernel that 'parkit scale' sizes (sumsq, factsum, fib), not '$kernel'"
        exit 2
    fi
    export -f pk_launch     # timeout(1) runs it through bash -c
    export PK_LAUNCHER
    pk_check_binding
    local nodes rpns threads n rpn t
    IFS=, read -ra nodes <<< "$PK_NODES"
    IFS=, read -ra rpns <<< "$PK_RANKS_PER_NODE"
    IFS=, read -ra threads <<< "$PK_THREADS"
    printf 'nodes\tranks_per_node\tthreads\tranks\tworkers\trc\tverified\tmedian_s\twall_s\tproc_bind\n' \
        > "$PK_OUT/points.tsv"
    local total=$((${#nodes[@]} * ${#rpns[@]} * ${#threads[@]})) i=0 failed=0
    for n in "${nodes[@]}"; do
        for rpn in "${rpns[@]}"; do
            for t in "${threads[@]}"; do
                i=$((i + 1))
                local bind=${OMP_PROC_BIND:-close}
                [[ $PK_TASKS_UNBOUND == 1 && $rpn -gt 1 ]] && bind=false
                local cmd=("$PARKIT")
                if [[ $use_scale == 1 ]]; then
                    cmd+=(scale "$kernel" "${kargs[@]}" --threads "$t" --mode "$PK_MODE"
                          --experiment "$(basename "$(dirname "$PK_OUT")")-$(basename "$PK_OUT")")
                else
                    cmd+=("$kernel" "${kargs[@]}" -t "$t")
                fi
                cmd+=(--reps "$PK_REPS" --warmup "$PK_WARMUP" --record "$PK_RECORDS")
                pk_log "point $i/$total: $n node(s) x $rpn rank(s)/node x $t thread(s), OMP_PROC_BIND=$bind"
                echo "\$ ${cmd[*]}" >> "$PK_OUT/log.txt"
                local before after rc=0 verified=false median=- t0 wall
                before=$( [[ -f $PK_RECORDS ]] && wc -l < "$PK_RECORDS" || echo 0)
                t0=$(date +%s.%N)
                OMP_PROC_BIND=$bind timeout -k 10 "$PK_POINT_TIMEOUT" bash -c 'pk_launch "$@"' pk "$n" "$rpn" "$t" "${cmd[@]}" \
                    >> "$PK_OUT/log.txt" 2>&1 || rc=$?
                wall=$(printf '%.3f' "$(echo "$(date +%s.%N) - $t0" | bc)")
                after=$( [[ -f $PK_RECORDS ]] && wc -l < "$PK_RECORDS" || echo 0)
                if ((after > before)); then
                    verified=$(tail -n 1 "$PK_RECORDS" | jq -r .verified 2>/dev/null) || verified=false
                    median=$(tail -n 1 "$PK_RECORDS" | jq -r .timing.median_s 2>/dev/null) || median=-
                fi
                printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$n" "$rpn" "$t" $((n * rpn)) \
                    $((n * rpn * t)) "$rc" "$verified" "$median" "$wall" "$bind" >> "$PK_OUT/points.tsv"
                if [[ $rc != 0 || $verified != true ]]; then
                    failed=$((failed + 1))
                    pk_log "point $i FAILED: exit $rc, verified $verified"
                fi
            done
        done
    done
    column -t "$PK_OUT/points.tsv" | tee -a "$PK_OUT/log.txt" >&2 || true
    pk_log "$total points, $failed failed; records: $PK_RECORDS"
    ((failed == 0)) || exit 1
}
