// Selection progress: poll the status while a selection runs; reload when it ends.
const bars = document.querySelectorAll(".selection-progress");
if (bars.length) {
  // A failed poll (a busy server, a dropped connection) is tried again, never the end of it.
  let failures = 0;
  const retry = () => setTimeout(tick, Math.min(1000 * 2 ** ++failures, 8000));
  const tick = async () => {
    let jobs;
    try {
      const response = await fetch("/organiser/selection/status.json", { headers: { accept: "application/json" } });
      if (!response.ok) return retry();
      jobs = await response.json();
    } catch {
      return retry();
    }
    failures = 0;
    let running = false;
    for (const [role, job] of Object.entries(jobs)) {
      const bar = document.getElementById(`progress-${role}`);
      if (bar) bar.value = job.progress;
      const detail = document.getElementById(`detail-${role}`);
      if (detail && job.detail) detail.textContent = job.detail;
      if (job.state === "running") running = true;
    }
    if (running) setTimeout(tick, 1000);
    else window.location.reload();
  };
  setTimeout(tick, 1000);
}
