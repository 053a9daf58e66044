/* The workbench's charts: each <figure class="workbench-chart"> holds its data in a JSON script (Django's
   json_script) and a table of the same numbers. This draws the data with the vendored ECharts and marks the
   figure `.is-drawn`, which leaves the table to screen readers (workbench-charts.css). Every word shown
   comes from the server, already translated; numbers only are formatted here.

   CSP: no inline script or style. ECharts styles its own elements through the CSSOM (allowed); its default
   tooltips put style="" attributes into HTML (refused), so each tooltip here is plain escaped text. */
(function () {
  "use strict";

  // The red of the Party-building palette first, then warm tones that stay apart from it.
  var PALETTE = ["#c62828", "#f9a825", "#8e0000", "#ef6c00", "#e57373", "#ad1457", "#ffcc80", "#6d4c41"];

  function shown(value, unit) {
    return value === null || value === undefined ? "—" : value + unit;
  }

  function escape(text) {
    return window.echarts.format.encodeHTML(String(text));
  }

  function hasValues(chart) {
    return chart.series.some(function (series) {
      return series.values.some(function (value) { return value !== null && value !== 0; });
    });
  }

  function pieOption(chart) {
    var series = chart.series[0];
    var data = chart.labels
      .map(function (label, i) { return { name: label, value: series.values[i] }; })
      .filter(function (point) { return point.value; });
    return {
      tooltip: {
        trigger: "item",
        formatter: function (p) { return escape(p.name + ": " + shown(p.value, chart.unit) + " (" + p.percent + "%)"); },
      },
      legend: { type: "scroll", bottom: 0 },
      series: [{ name: series.name, type: "pie", radius: ["35%", "62%"], center: ["50%", "45%"], data: data,
                 label: { formatter: "{b}: {c}" } }],
    };
  }

  function axisOption(chart) {
    var many = chart.labels.length > 6;
    return {
      tooltip: {
        trigger: "axis",
        formatter: function (points) {
          return [escape(points[0].axisValueLabel)].concat(points.map(function (p) {
            return escape(p.seriesName + ": " + shown(p.value, chart.unit));
          })).join("<br>");
        },
      },
      legend: chart.series.length > 1 ? { bottom: 0 } : undefined,
      grid: { left: 8, right: 16, top: chart.unit ? 32 : 16, bottom: chart.series.length > 1 ? 32 : 8, containLabel: true },
      xAxis: { type: "category", data: chart.labels, axisLabel: { interval: 0, rotate: many ? 40 : 0 } },
      // The unit names the axis once ("%", "小时"); counts are whole numbers.
      yAxis: { type: "value", name: chart.unit, minInterval: chart.unit ? 0 : 1, max: chart.unit === "%" ? 100 : null },
      series: chart.series.map(function (series) {
        return { name: series.name, type: chart.kind, data: series.values, barMaxWidth: 36, connectNulls: false };
      }),
    };
  }

  function draw(figure) {
    var source = figure.querySelector('script[type="application/json"]');
    var box = figure.querySelector(".workbench-chart-canvas");
    if (!source || !box) {
      return;
    }
    var chart = JSON.parse(source.textContent);
    if (!hasValues(chart)) {
      return; // nothing to draw: the table says so
    }
    figure.classList.add("is-drawn"); // first, so that the box has its size when ECharts measures it
    var instance = window.echarts.init(box, null, { renderer: "canvas" });
    var option = chart.kind === "pie" ? pieOption(chart) : axisOption(chart);
    option.color = PALETTE;
    option.animation = false;
    instance.setOption(option);
    window.addEventListener("resize", function () { instance.resize(); });
  }

  function start() {
    if (!window.echarts) {
      return; // the tables stay
    }
    Array.prototype.forEach.call(document.querySelectorAll(".workbench-chart"), draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
