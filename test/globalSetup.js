// End-to-end tests run the built CLI and page, as a user does; build both once so they never test stale code.
const { execFileSync } = require('child_process')
const path = require('path')

module.exports = async () => {
  const root = path.join(__dirname, '..')
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' })
  execFileSync(process.execPath, [path.join(root, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', 'src/web/vite.config.mts'], { cwd: root, stdio: 'inherit' })
}
