// lsq-import page: the drop zone, sortable and filterable tables, and live import progress.
// Data only ever reaches the page through textContent and attributes, never as HTML.
"use strict";

function setupUpload() {
  const form = document.getElementById("upload");
  if (!form) return;
  const input = form.querySelector("input[type=file]");
  const drop = form.querySelector("[data-drop]");
  const chosen = form.querySelector("[data-chosen]");
  const error = form.querySelector("[data-upload-error]");
  const busy = form.querySelector("[data-busy]");
  const limit = Number(form.dataset.maxUpload || 0);

  function tooLarge() {
    const file = input.files && input.files[0];
    return file && limit && file.size > limit ? file : null;
  }

  function showChoice() {
    const file = input.files && input.files[0];
    chosen.textContent = file ? "Chosen: " + file.name : "";
    const big = tooLarge();
    error.hidden = !big;
    error.textContent = big
      ? big.name + " is larger than " + form.dataset.maxUploadText +
        ", the most this page takes: split the file, or start the page with a larger --max-upload"
      : "";
  }

  input.addEventListener("change", showChoice);
  ["dragenter", "dragover"].forEach((name) =>
    drop.addEventListener(name, (event) => {
      event.preventDefault();
      drop.classList.add("over");
    })
  );
  ["dragleave", "drop"].forEach((name) =>
    drop.addEventListener(name, () => drop.classList.remove("over"))
  );
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    if (event.dataTransfer && event.dataTransfer.files.length) {
      input.files = event.dataTransfer.files;
      showChoice();
    }
  });
  form.addEventListener("submit", (event) => {
    if (tooLarge()) {
      event.preventDefault();
      showChoice();
      return;
    }
    busy.hidden = false;
  });
}

function cellValue(row, index, numeric) {
  const text = row.cells[index] ? row.cells[index].textContent : "";
  return numeric ? Number(text) || 0 : text.toLocaleLowerCase();
}

function setupSortable(table) {
  const headers = Array.from(table.tHead.rows[0].cells);
  headers.forEach((th, index) => {
    const button = th.querySelector("button");
    if (!button) return;
    button.addEventListener("click", () => {
      const ascending = th.getAttribute("aria-sort") !== "ascending";
      headers.forEach((other) => other.removeAttribute("aria-sort"));
      th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      const numeric = th.dataset.type === "number";
      const body = table.tBodies[0];
      const rows = Array.from(body.rows);
      rows.sort((a, b) => {
        const x = cellValue(a, index, numeric);
        const y = cellValue(b, index, numeric);
        const order = x < y ? -1 : x > y ? 1 : cellValue(a, 0, true) - cellValue(b, 0, true);
        return ascending ? order : -order;
      });
      body.append(...rows);
    });
  });
}

function setupFilter(select) {
  const table = document.getElementById(select.dataset.filterFor);
  const column = Number(select.dataset.filterColumn || 0);
  const count = document.querySelector("[data-filter-count]");
  select.addEventListener("change", () => {
    let shown = 0;
    Array.from(table.tBodies[0].rows).forEach((row) => {
      const keep = !select.value || row.cells[column].textContent === select.value;
      row.hidden = !keep;
      if (keep) shown += 1;
    });
    if (count) count.textContent = shown + (shown === 1 ? " problem" : " problems");
  });
}

function updateImport(root, status) {
  root.dataset.state = status.state;
  const field = (name) => root.querySelector('[data-field="' + name + '"]');
  const state = field("state");
  state.textContent = status.state;
  state.className = "state state-" + status.state;
  field("progress_text").textContent = status.progress_text;
  const bar = field("bar");
  bar.max = Math.max(1, status.total);
  bar.value = status.done;
  bar.textContent = String(status.done);
  field("calls").textContent = String(status.calls);
  field("rate_limited").textContent = String(status.rate_limited);
  ["sent_text", "pace_text", "time_left_text"].forEach((name) => {
    const value = field(name);
    value.textContent = status[name] || "";
    value.parentElement.hidden = !status[name]; // shown only while there is something to say
  });
  const origins = field("origin_text");
  origins.textContent = status.origin_text || "";
  origins.hidden = !status.origin_text;
  const message = field("message");
  message.textContent = status.message || "";
  message.hidden = !status.message;
  const activity = field("activity");
  activity.textContent = status.activity ? status.activity.line : "";
  activity.hidden = !status.activity;

  const counts = status.counts || {};
  const largest = Math.max(1, status.file_rows || 0, ...Object.values(counts));
  root.querySelectorAll(".counts .chip").forEach((chip) => {
    const n = counts[chip.dataset.status] || 0;
    chip.querySelector("[data-count]").textContent = counted(n);
    chip.hidden = n === 0;
  });
  root.querySelectorAll("[data-chart] g").forEach((group) => {
    const n = counts[group.dataset.status] || 0;
    group.querySelector("[data-bar]").setAttribute("width", ((440 * n) / largest).toFixed(1));
    group.querySelector("[data-count]").textContent = counted(n);
  });
  const actions = status.actions || [];
  root.querySelectorAll("[data-action]").forEach((element) => {
    element.hidden = !actions.includes(element.dataset.action);
  });
  root.querySelectorAll("[data-while-running]").forEach((element) => {
    element.hidden = !underWay(status.state);
  });
}

async function showFailures() {
  // The import ended while the page was open: bring in "why rows failed" as the server
  // wrote it (escaped there), as parsed nodes, without reloading the page.
  const area = document.querySelector("[data-failures-area]");
  if (!area) return;
  try {
    const answer = await fetch(window.location.href, { headers: { Accept: "text/html" } });
    if (!answer.ok) return;
    const fresh = new DOMParser().parseFromString(await answer.text(), "text/html");
    const found = fresh.querySelector("[data-failures-area]");
    if (found) area.replaceWith(document.importNode(found, true));
  } catch (error) {
    // the live counts are shown already; the reasons appear on the next visit
  }
}

function underWay(state) {
  return state === "running" || state === "stopping";
}

function followImport(root) {
  if (!root.dataset.events || !underWay(root.dataset.state) || !window.EventSource) return;
  const source = new EventSource(root.dataset.events);
  source.addEventListener("status", (event) => {
    const status = JSON.parse(event.data);
    updateImport(root, status);
    if (!underWay(status.state)) {
      source.close();
      showFailures();
    }
  });
}

function counted(n) {
  return Number(n).toLocaleString("en-US"); // 134,950: as the server writes counts
}

function rowsDone(done, total) {
  return counted(done) + " of " + counted(total) + (total === 1 ? " row" : " rows") + " done";
}

function followListedImports() {
  const rows = Array.from(document.querySelectorAll('[data-testid=import-row][data-state=running]'));
  if (!rows.length) return;
  const timer = setInterval(async () => {
    for (const row of rows) {
      let status;
      try {
        const answer = await fetch("/api/imports/" + encodeURIComponent(row.dataset.id));
        if (!answer.ok) continue;
        status = await answer.json();
      } catch (error) {
        continue;
      }
      if (!underWay(status.state)) {
        clearInterval(timer);
        window.location.reload(); // its next steps change: show them
        return;
      }
      row.querySelector("[data-progress]").textContent = rowsDone(status.done, status.total);
      row.querySelectorAll("[data-counts] .chip").forEach((chip) => {
        const n = status.counts[chip.dataset.status] || 0;
        chip.querySelector("[data-count]").textContent = counted(n);
        chip.hidden = n === 0;
      });
    }
  }, 1500);
}

function keepScroll() {
  // "Check again" reloads the same page: come back to where the reader was in the list.
  const key = "scroll:" + window.location.pathname;
  const saved = window.sessionStorage.getItem(key);
  if (saved !== null) {
    window.sessionStorage.removeItem(key);
    window.scrollTo(0, Number(saved) || 0);
  }
  document.querySelectorAll("form[data-keep-scroll]").forEach((form) =>
    form.addEventListener("submit", () => window.sessionStorage.setItem(key, String(window.scrollY)))
  );
}

document.addEventListener("DOMContentLoaded", () => {
  keepScroll();
  followListedImports();
  setupUpload();
  document.querySelectorAll("table[data-sortable]").forEach(setupSortable);
  document.querySelectorAll("select[data-filter-for]").forEach(setupFilter);
  const live = document.getElementById("live");
  if (live) followImport(live);
});
