"""The targets of issues 6 and 13, judged PASS/FAIL, and the results as Markdown."""

EPOCH_RATIO_LIMIT = 1.10        # tinygrad_np / reference, batch >= 64
EPOCH_RATIO_LIMIT_SMALL = 1.25  # batch 32
GEMM_FRACTION_LIMIT = 0.70      # of the large-GEMM GFLOP/s, 784-1024-1024-10 at batch 256
GEMM_FRACTION_CONFIG = ([784, 1024, 1024, 10], 256)
SECONDS_TO_ACCURACY_LIMIT = 10.0
CONV_STEP_RATIO_LIMIT = 1.50    # tinygrad_np / PyTorch, the CNN training step (issue 13's floor; its goal is 1.00)


def _config_name(row) -> str:
    return f"{'-'.join(map(str, row['layer_sizes']))} b{row['batch_size']}"


def targets(results: dict) -> list:
    """[{'target', 'value', 'limit', 'passed'}]; a target whose measurement was skipped has passed None."""
    judged = []

    def judge(target, value, limit, passed):
        judged.append({"target": target, "value": value, "limit": limit, "passed": passed})

    for row in results.get("throughput", []):
        limit = EPOCH_RATIO_LIMIT_SMALL if row["batch_size"] < 64 else EPOCH_RATIO_LIMIT
        judge(f"epoch time vs reference, {_config_name(row)}", row["ratio_to_reference"], f"<= {limit:.2f}x",
              row["ratio_to_reference"] <= limit)
    for row in results.get("throughput", []):
        ratio = row["ratio_to_torch"]
        judge(f"epoch time vs PyTorch, {_config_name(row)}", ratio, "< 1.00x", None if ratio is None else ratio < 1.0)
    for row in results.get("throughput", []):
        if (row["layer_sizes"], row["batch_size"]) == GEMM_FRACTION_CONFIG:
            judge(f"GFLOP/s vs large GEMM, {_config_name(row)}", row["fraction_of_gemm"],
                  f">= {GEMM_FRACTION_LIMIT:.0%}", row["fraction_of_gemm"] >= GEMM_FRACTION_LIMIT)
    for row in results.get("conv", []):
        ratio = row["ratio_to_torch"]
        judge(f"CNN step vs PyTorch, batch {row['batch_size']}", ratio, f"<= {CONV_STEP_RATIO_LIMIT:.2f}x",
              None if ratio is None else ratio <= CONV_STEP_RATIO_LIMIT)
    overhead = results.get("overhead")
    if overhead:
        us = overhead["elementwise"]["us"]
        judge("recorded elementwise op vs PyTorch requires_grad (us)", us["tinygrad_np"],
              f"<= {us['torch']:.2f} us" if "torch" in us else "<= PyTorch's",
              us["tinygrad_np"] <= us["torch"] if "torch" in us else None)
    accuracy = results.get("time_to_accuracy")
    if accuracy:
        seconds = accuracy["train_seconds"]
        judge(f"default run reaches {accuracy['target']:.0%} test accuracy (training s)", seconds,
              f"<= {SECONDS_TO_ACCURACY_LIMIT:.0f} s", accuracy["reached"] and seconds <= SECONDS_TO_ACCURACY_LIMIT)
    return judged


def status(passed) -> str:
    return {True: "PASS", False: "FAIL", None: "skipped"}[passed]


def _number(value, digits=2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _ratio(value) -> str:
    return "-" if value is None else f"{value:.2f}x"


def markdown(results: dict) -> str:
    machine = results["machine"]
    lines = [
        "# Benchmarks", "",
        f"`{results['command']}` on {machine['date'][:10]}: {machine['cpu']}, {machine['cores']} cores; "
        f"BLAS {machine['blas']} (kernel {machine['blas_kernel']}"
        + (f", OPENBLAS_CORETYPE={machine['OPENBLAS_CORETYPE']}" if machine["OPENBLAS_CORETYPE"] else "")
        + f"), {machine['threads']} threads for NumPy and PyTorch; Python {machine['python']}, "
        f"NumPy {machine['numpy']}, PyTorch {machine['torch'] or 'not installed'}; float32. "
        "Medians over rounds run in turns; ratios are medians of the per-round ratios.", ""]
    if results.get("notes"):
        lines += [f"- {note}" for note in results["notes"]] + [""]
    rows = results.get("throughput")
    if rows:
        lines += [f"## Training throughput: one epoch of {rows[0]['samples']:,} samples, plain SGD", "",
                  "| layers | batch | tinygrad_np s | reference s | PyTorch s | vs reference | vs PyTorch "
                  "| GFLOP/s | of large GEMM |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for row in rows:
            seconds = row["seconds"]
            lines.append(
                f"| {'-'.join(map(str, row['layer_sizes']))} | {row['batch_size']} | {seconds['tinygrad_np']:.3f} "
                f"| {seconds['reference']:.3f} | {_number(seconds.get('torch'), 3)} "
                f"| {row['ratio_to_reference']:.2f}x | {_ratio(row['ratio_to_torch'])} "
                f"| {row['gflops']['tinygrad_np']:.0f} | {row['fraction_of_gemm']:.0%} |")
        lines += ["", f"Large GEMM (2048 x 2048 float32, same rounds): "
                  f"{min(r['gemm_gflops'] for r in rows):.0f}-{max(r['gemm_gflops'] for r in rows):.0f} GFLOP/s "
                  "(the median of each row's rounds). GFLOP/s counts the matrix products only: forward, "
                  "weight gradients, and input gradients below the first layer.", ""]
    if results.get("conv"):
        lines += ["## CNN training step: conv 1->32 5x5, ReLU, max-pool 2, conv 32->64 5x5, ReLU, max-pool 2, "
                  "flatten, linear 1024->10; cross-entropy, plain SGD", ""] + conv_table(results["conv"]) + [
                  "", "GFLOP/s is an effective rate: the multiply-adds of the step's matrix products written the "
                  "im2col way (forward, weight gradients, input gradients but the first conv's) over its time. "
                  "The second conv takes the spectral lowering, which does 4.8x fewer, so the rate can pass "
                  "the large GEMM's, which ran in the same rounds.", ""]
    overhead = results.get("overhead")
    if overhead:
        lines += ["## Per-op overhead (microseconds per op, result dropped)", "",
                  "| op | NumPy | tinygrad_np, recorded | PyTorch, requires_grad |", "|---|---:|---:|---:|"]
        for kind, label in (("elementwise", "a * b"), ("matmul", "a @ b")):
            us, shape = overhead[kind]["us"], "x".join(map(str, overhead[kind]["shape"]))
            lines.append(f"| {label}, float32 {shape} | {us['numpy']:.2f} | {us['tinygrad_np']:.2f} "
                         f"| {_number(us.get('torch'))} |")
        lines.append("")
    accuracy = results.get("time_to_accuracy")
    if accuracy:
        config = accuracy["config"]
        per_epoch = ", ".join(f"{e['test_accuracy']:.2%}" for e in accuracy["epochs"])
        reached = (f"reached after epoch {len(accuracy['epochs'])}: {accuracy['train_seconds']:.1f} s of training "
                   f"({accuracy['wall_seconds']:.1f} s with the per-epoch validation and checkpoint)"
                   if accuracy["reached"] else f"not reached in {config['epochs']} epochs")
        lines += [f"## Time to {accuracy['target']:.0%} test accuracy, default TrainConfig", "",
                  f"{'-'.join(map(str, config['layer_sizes']))} {config['activation']}, batch {config['batch_size']}, "
                  f"{config['optimizer']} lr {config['lr']} momentum {config['momentum']} "
                  f"weight decay {config.get('weight_decay', 0)}, "
                  f"{config['schedule']} schedule, "
                  f"{config['epochs']} epochs: {reached}. Test accuracy after each epoch: {per_epoch}.", ""]
    memory = results.get("memory")
    if memory:
        lines += ["## Peak memory of a default training run", "",
                  f"`{memory['command']}` ({memory['epochs']} epochs, test report and plots included): "
                  f"peak RSS {memory['peak_rss_mib']:.0f} MiB, {memory['wall_seconds']:.1f} s wall "
                  f"(its own report: {memory['last_line'].split(';')[0]}).", ""]
    lines += ["## Targets", "", "| target | measured | limit | result |", "|---|---:|---|---|"]
    for target in results["targets"]:
        lines.append(f"| {target['target']} | {_number(target['value'], 3)} | {target['limit']} "
                     f"| {status(target['passed'])} |")
    return "\n".join(lines) + "\n"


def conv_table(rows: list) -> list:
    """The CNN step rows as Markdown table lines."""
    lines = ["| batch | tinygrad_np ms/step | im2col only ms/step | hand-derived NumPy ms/step | PyTorch ms/step "
             "| vs hand-derived | vs PyTorch (range over rounds) | GFLOP/s | of large GEMM |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for row in rows:
        ratio, spread = row["ratio_to_torch"], row["ratio_to_torch_range"]
        lines.append(f"| {row['batch_size']} | {row['step_ms']['tinygrad_np']:.1f} "
                     f"| {_number(row['step_ms'].get('im2col only'), 1)} | {row['step_ms']['reference']:.1f} "
                     f"| {_number(row['step_ms'].get('torch'), 1)} "
                     f"| {_ratio(row['ratio_to_reference'])} "
                     f"| {_ratio(ratio)}{'' if spread is None else f' ({spread[0]:.2f}-{spread[1]:.2f})'} "
                     f"| {row['gflops']:.0f} | {row['fraction_of_gemm']:.0%} |")
    return lines
