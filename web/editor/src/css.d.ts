// esbuild bundles imported CSS into editor.css; TypeScript only needs to know the import exists.
declare module '*.css';
