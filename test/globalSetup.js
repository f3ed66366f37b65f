// End-to-end tests run the built CLI, as a user does; build it once so they never test stale code.
const { execFileSync } = require('child_process')
const path = require('path')

module.exports = async () => {
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
    cwd: path.join(__dirname, '..'),
    stdio: 'inherit',
  })
}
