"""The formal review (绩效面谈): appraisal cycles, the self-assessment, interview days, the
manager's prep pack, the recorded interview and the employee's answer to it."""
