// nsnet/testing: labs for test suites, whatever the runner. Served apart from the package
// index, so a program that imports nsnet does not load test helpers.
export { LabSet, uniqueIfname, uniquePrefix, uniqueSubnet, withLab, workerId } from './lab.js'
