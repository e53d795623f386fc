// Images in the post editor (templates/posts_admin.templ): drop an image on the markdown,
// paste one, or choose one with the "Add image" button. Each is uploaded to /admin/uploads
// (the server checks its type and size) and its markdown, ![name](/uploads/...), is inserted
// where the cursor is; then the usual input event runs the live preview and autosave.
(function () {
  'use strict';

  var area = document.getElementById('markdown');
  if (!area) return;
  var status = document.getElementById('image-status');
  var picker = document.getElementById('image-picker');
  var csrf = document.querySelector('meta[name="csrf-token"]');

  function say(msg, kind) {
    if (!status) return;
    status.textContent = msg;
    status.className = 'save-state ' + (kind || '');
  }

  function insert(text) {
    var start = area.selectionStart, end = area.selectionEnd, v = area.value;
    var before = v.slice(0, start), after = v.slice(end);
    var pad = before && !before.endsWith('\n') ? '\n\n' : '';
    var chunk = pad + text + '\n';
    area.value = before + chunk + after;
    area.selectionStart = area.selectionEnd = before.length + chunk.length;
    area.dispatchEvent(new Event('input', { bubbles: true }));
  }

  function upload(file) {
    if (!file || !/^image\//.test(file.type)) return false;
    var body = new FormData();
    body.append('image', file, file.name || 'image.png');
    body.append('alt', file.name && file.name !== 'image.png' ? file.name : '');
    say('Uploading ' + (file.name || 'image') + '…');
    fetch('/admin/uploads', {
      method: 'POST', body: body, credentials: 'same-origin',
      headers: { 'X-CSRF-Token': csrf ? csrf.content : '' },
    }).then(function (res) {
      return res.json().then(function (data) { return { ok: res.ok, data: data }; });
    }).then(function (r) {
      if (!r.ok) { say('Image not added: ' + (r.data.error || 'upload refused'), 'error'); return; }
      insert(r.data.markdown);
      say('Image added.', 'ok');
    }).catch(function () { say('Image not added: the upload failed.', 'error'); });
    return true;
  }

  function images(list) {
    var found = false;
    for (var i = 0; i < (list ? list.length : 0); i++) {
      var f = list[i].getAsFile ? (list[i].kind === 'file' ? list[i].getAsFile() : null) : list[i];
      if (f && upload(f)) found = true;
    }
    return found;
  }

  area.addEventListener('paste', function (e) {
    if (e.clipboardData && images(e.clipboardData.items)) e.preventDefault();
  });
  area.addEventListener('dragover', function (e) {
    if (e.dataTransfer && Array.prototype.indexOf.call(e.dataTransfer.types, 'Files') >= 0) e.preventDefault();
  });
  area.addEventListener('drop', function (e) {
    if (e.dataTransfer && e.dataTransfer.files.length) {
      e.preventDefault();
      images(e.dataTransfer.files);
    }
  });
  if (picker) {
    picker.addEventListener('change', function () {
      images(picker.files);
      picker.value = '';
    });
  }
})();
