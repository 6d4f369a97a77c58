/* The analytics dashboard's charts, drawn with the vendored Chart.js from the numbers the page's tables hold. */
(function () {
  "use strict";

  var source = document.getElementById("analytics-charts");
  if (!source || typeof Chart === "undefined") return;
  var charts = JSON.parse(source.textContent);
  // Colours with AA contrast on white, the same as the status badges'.
  var colours = {
    delivered: "#15803d", complained: "#be185d", bounced: "#c2410c", pending: "#94a3b8",
    opened: "#0f766e", clicked: "#1d4ed8", cost: "#475569",
    attempts: "#0369a1", bounces: "#c2410c", complaints: "#be185d", rejects: "#b91c1c"
  };
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.animation = false;  // charts that appear at once, as the tables do

  function bar(label, data, colour, stack) {
    return { type: "bar", label: label, data: data, backgroundColor: colour, stack: stack, order: 2 };
  }
  function line(label, data, colour) {
    return { type: "line", label: label, data: data, borderColor: colour, backgroundColor: colour,
             pointRadius: 2, tension: 0.2, order: 1 };
  }
  function draw(id, config) {
    var canvas = document.getElementById(id);
    if (canvas) new Chart(canvas, config);
  }
  var stacked = { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } };
  var options = { responsive: true, maintainAspectRatio: false, interaction: { mode: "index", intersect: false } };

  var daily = charts.daily;
  draw("chart-daily", {
    data: {
      labels: daily.labels,
      datasets: [
        bar("Delivered", daily.delivered, colours.delivered, "sent"),
        bar("Complained", daily.complained, colours.complained, "sent"),
        bar("Bounced", daily.bounced, colours.bounced, "sent"),
        bar("Not yet reported", daily.pending, colours.pending, "sent"),
        line("Opened", daily.opened, colours.opened),
        line("Clicked", daily.clicked, colours.clicked)
      ]
    },
    options: Object.assign({ scales: stacked }, options)
  });
  draw("chart-cost", {
    type: "bar",
    data: { labels: charts.cost.labels, datasets: [bar("Cost (USD)", charts.cost.cost, colours.cost)] },
    options: Object.assign({ plugins: { legend: { display: false } } }, options)
  });
  if (charts.ses) {
    var ses = charts.ses;
    draw("chart-ses", {
      data: {
        labels: ses.labels,
        datasets: [
          bar("Delivery attempts", ses.deliveryAttempts, colours.attempts),
          line("Bounces", ses.bounces, colours.bounces),
          line("Complaints", ses.complaints, colours.complaints),
          line("Rejects", ses.rejects, colours.rejects)
        ]
      },
      options: options
    });
  }
  document.documentElement.dataset.chartsDrawn = "true";
})();
